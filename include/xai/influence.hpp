#pragma once
// The influence-function family (Koh & Liang, "Understanding Black-box Predictions via
// Influence Functions", ICML 2017): which training examples most helped or hurt a prediction.
//
//   xai::Influence<Model, Solver>   the explainer (explain/influence/influence.hpp)
//   ExactSolver, ConjugateGradientSolver, LissaSolver, ArnoldiSolver   the inverse-Hessian policies
//                                   (explain/influence/{exact,cg,lissa,arnoldi}.hpp; the concept in solver.hpp)
//   TrainingLoss<Model>             the training objective the solvers work on (training_loss.hpp)
//   most_helpful, most_harmful, review_order, predicted_loss_change_on_removal   (ranking.hpp)
//   I_pert,loss and its model concepts   (perturbation.hpp)
//   NewtonStepInfluence             leave-one-out and leave-group-out by one Newton step (newton_step.hpp)
//   ArnoldiSolver                   H⁻¹ on the top eigen-subspace of H (Schioppa et al. 2022; arnoldi.hpp)
//   TracIn<Model>                   TracInCP over training checkpoints (Pruthi et al. 2020; tracin.hpp)
//   pooled_features                 a CNN's last-layer input, for influence with frozen features (features.hpp)
//
// Models are not included: LogisticRegression is in xai/models/logistic_regression.hpp, the
// built-in CNN in xai/models/sequential.hpp; any TwiceDifferentiableModel works.

#include "xai/explain/influence/arnoldi.hpp"
#include "xai/explain/influence/cg.hpp"
#include "xai/explain/influence/exact.hpp"
#include "xai/explain/influence/features.hpp"
#include "xai/explain/influence/influence.hpp"
#include "xai/explain/influence/lissa.hpp"
#include "xai/explain/influence/newton_step.hpp"
#include "xai/explain/influence/perturbation.hpp"
#include "xai/explain/influence/ranking.hpp"
#include "xai/explain/influence/solver.hpp"
#include "xai/explain/influence/tracin.hpp"
#include "xai/explain/influence/training_loss.hpp"
